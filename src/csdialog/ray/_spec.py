"""What a worker needs to rebuild the pipeline: plain settings plus saved model folders.

Nothing here imports Ray: the same :class:`PipelineSpec` and :class:`PackedFolder` serve
Ray actors, Spark executors and plain processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from csdialog.errors import ModelFolderError, ValidationError

if TYPE_CHECKING:
    from csdialog.answers import AnswerLogic
    from csdialog.pipeline import Pipeline

__all__ = ["PackedFolder", "PipelineSpec"]

#: Folders larger than this are not shipped with the job; put them on shared storage.
MAX_SHIPPED_BYTES = 512 * 2**20


@dataclass(frozen=True)
class PackedFolder:
    """A model folder written by ``save_pretrained``, as its files' bytes.

    The driver packs a folder, Ray ships the bytes with the actor's arguments, and the
    worker writes them back to a local folder and loads it with ``from_pretrained``: the
    model travels as the same JSON + safetensors files as on disk, never as a pickled
    object.

    Example:
        >>> import tempfile
        >>> from csdialog.viewpoints import ViewpointClusterer
        >>> vc = ViewpointClusterer("hashing", min_cluster_size=2).fit(
        ...     ["退货怎么退", "怎么退货", "快递几天到", "快递多久到"])
        >>> packed = PackedFolder.pack(vc.save_pretrained(tempfile.mkdtemp() + "/vc"))
        >>> sorted(packed.files)
        ['arrays.safetensors', 'config.json']
        >>> back = ViewpointClusterer.from_pretrained(packed.unpack(tempfile.mkdtemp()))
        >>> back.assign(["怎么退货呢"]) == vc.assign(["怎么退货呢"])
        True
    """

    name: str
    files: Mapping[str, bytes]

    @classmethod
    def pack(cls, folder: str | os.PathLike[str], *, max_bytes: int = MAX_SHIPPED_BYTES) -> PackedFolder:
        """Read every file under ``folder``.

        Raises:
            ModelFolderError: ``folder`` is not a folder.
            ValidationError: it holds more than ``max_bytes``.
        """
        path = Path(folder)
        if not path.is_dir():
            raise ModelFolderError(f"{path} is not a folder; expected a folder saved by save_pretrained")
        files: dict[str, bytes] = {}
        total = 0
        for p in sorted(path.rglob("*")):
            if not p.is_file():
                continue
            total += p.stat().st_size
            if total > max_bytes:
                raise ValidationError(
                    f"{path} holds more than {max_bytes / 2**20:.0f} MB, too much to ship with the job; "
                    "put it on storage every node can read (or in the runtime_env working_dir) and "
                    "pass ship_models=False")
            files[p.relative_to(path).as_posix()] = p.read_bytes()
        return cls(path.name or "model", files)

    def unpack(self, into: str | os.PathLike[str]) -> Path:
        """Write the files under ``into/<name>`` and return that folder."""
        target = Path(into) / self.name
        for rel, data in self.files.items():
            parts = PurePosixPath(rel).parts
            if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
                raise ModelFolderError(f"packed folder {self.name!r} holds an unsafe path {rel!r}")
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        target.mkdir(parents=True, exist_ok=True)
        return target


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class PipelineSpec:
    """The settings of a :class:`~csdialog.pipeline.Pipeline` as plain data, so that every
    worker can build the same pipeline.

    Models are named or given as folders, never as objects: an encoder is a registered
    name plus its keyword arguments (``encoder="hashing", encoder_kwargs={"dim": 256}``
    builds ``HashingEncoder(dim=256)``), the emotion and intent models are folders saved by
    ``save_pretrained`` (``"default"`` is the shipped emotion model). Answer logics and
    inspection rules may be file paths; they are read once on the driver and travel as data.

    Args:
        steps: as for :class:`~csdialog.pipeline.Pipeline` (default: all that apply).
        encoder: a name :func:`csdialog.get_encoder` knows (``"e5-small"``, ``"hashing"``,
            ``"st:<model>"``...). Custom encoders must be registered in the workers too.
        encoder_kwargs: passed to the encoder's factory, e.g. ``{"dim": 256}``.
        emotion_model, intent_model: folders (or ``"default"`` for the emotion model).
        answer_scorer: a scorer folder (saved by ``PairClassifierScorer`` or
            ``CrossEncoderScorer``) that judges the replies; default: the similarity scorer.
        answer_logics: a YAML / JSON file or a list of :class:`~csdialog.answers.AnswerLogic`.
        inspection_rules: a YAML / JSON file or a mapping (default: the shipped rules).
        repeat_rules: repeat-contact rules, e.g. ``("3/1d", "3/3d")``.
        min_cluster_size: smallest viewpoint when the viewpoints are fitted.
        top: top-N viewpoints per category in the outputs.
        max_turn_chars: longer turns are cut for the analysis and reported.
        columns: a :class:`~csdialog.io.ColumnMapping` as a dict, for input whose field
            names differ from ours.

    Example:
        >>> spec = PipelineSpec(steps=("viewpoints", "inspection"), encoder="hashing",
        ...                     encoder_kwargs={"dim": 64})
        >>> spec.pipeline().encoder.name
        'hashing-64'
        >>> PipelineSpec.from_dict(spec.to_dict()) == spec
        True
    """

    steps: tuple[str, ...] | None = None
    encoder: str = "e5-small"
    encoder_kwargs: Mapping[str, Any] = field(default_factory=dict)
    emotion_model: str = "default"
    intent_model: str | None = None
    answer_scorer: str | None = None
    answer_logics: str | tuple[AnswerLogic, ...] | None = None
    inspection_rules: str | Mapping[str, Any] | None = None
    repeat_rules: tuple[Any, ...] = ("3/1d", "3/3d")
    min_cluster_size: int = 2
    top: int = 10
    max_turn_chars: int = 5000
    columns: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        from csdialog.pipeline import STEPS

        if not isinstance(self.encoder, str):
            raise ValidationError(
                f"PipelineSpec.encoder must be an encoder name, got a {type(self.encoder).__name__}: "
                "workers rebuild the encoder from its name, e.g. encoder='hashing', "
                "encoder_kwargs={'dim': 256} (see csdialog.available_encoders())")
        if self.steps is not None:
            object.__setattr__(self, "steps", tuple(self.steps))
            unknown = [s for s in self.steps if s not in STEPS]
            if unknown:
                raise ValidationError(f"unknown step(s) {unknown}; choose from {list(STEPS)}")
        for name in ("emotion_model", "intent_model", "answer_scorer", "answer_logics",
                     "inspection_rules"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
        if isinstance(self.answer_logics, list):
            object.__setattr__(self, "answer_logics", tuple(self.answer_logics))
        if self.inspection_rules is not None and not isinstance(self.inspection_rules, str | Mapping):
            raise ValidationError(
                "PipelineSpec.inspection_rules must be a rule file or a mapping (an Inspector object "
                f"can't be rebuilt on a worker), got {type(self.inspection_rules).__name__}")
        object.__setattr__(self, "repeat_rules", tuple(self.repeat_rules))

    # ------------------------------------------------------------------ plain data

    def logics(self) -> list[AnswerLogic]:
        """The answer logics (read from the file when one was given)."""
        from csdialog.answers import AnswerLogic, load_answer_logics

        if self.answer_logics is None:
            return []
        if isinstance(self.answer_logics, str):
            return load_answer_logics(self.answer_logics)
        return [lg if isinstance(lg, AnswerLogic) else AnswerLogic.from_dict(lg)
                for lg in self.answer_logics]

    def rules(self) -> Mapping[str, Any] | None:
        """The inspection rule config as a mapping (``None``: the shipped rules)."""
        if self.inspection_rules is None or isinstance(self.inspection_rules, Mapping):
            return self.inspection_rules
        from csdialog.answers.logic import _read_config

        path = Path(self.inspection_rules)
        if not path.is_file():
            raise ValidationError(f"inspection config {str(path)!r} does not exist")
        config = _read_config(path)
        if not isinstance(config, Mapping):
            raise ValidationError(f"{path}: expected a mapping with 'rules', got {type(config).__name__}")
        return config

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; files of logics and rules are read and inlined."""
        from csdialog.alerts import RepeatRule

        return {
            "steps": list(self.steps) if self.steps is not None else None,
            "encoder": self.encoder, "encoder_kwargs": _plain(dict(self.encoder_kwargs)),
            "emotion_model": self.emotion_model, "intent_model": self.intent_model,
            "answer_scorer": self.answer_scorer,
            "answer_logics": [lg.to_dict() for lg in self.logics()] if self.answer_logics else None,
            "inspection_rules": _plain(self.rules()) if self.inspection_rules is not None else None,
            "repeat_rules": [[r.count, r.days] for r in map(RepeatRule.parse, self.repeat_rules)],
            "min_cluster_size": self.min_cluster_size, "top": self.top,
            "max_turn_chars": self.max_turn_chars,
            "columns": _plain(dict(self.columns)) if self.columns is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineSpec:
        """The inverse of :meth:`to_dict`."""
        from csdialog.alerts import RepeatRule
        from csdialog.answers import AnswerLogic

        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"unknown PipelineSpec field(s) {unknown}; expected some of {sorted(known)}")
        values = dict(data)
        if values.get("answer_logics") is not None and not isinstance(values["answer_logics"], str):
            values["answer_logics"] = tuple(
                lg if isinstance(lg, AnswerLogic) else AnswerLogic.from_dict(lg)
                for lg in values["answer_logics"])
        if "repeat_rules" in values:
            values["repeat_rules"] = tuple(
                RepeatRule.parse(tuple(r) if isinstance(r, list) else r) for r in values["repeat_rules"])
        return cls(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PipelineSpec):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))

    # ------------------------------------------------------------------ building

    def pipeline(
        self, *, emotion_model: str | os.PathLike[str] | None = None,
        intent_model: str | os.PathLike[str] | None = None,
        answer_scorer: str | os.PathLike[str] | None = None,
    ) -> Pipeline:
        """Build the :class:`~csdialog.pipeline.Pipeline` in this process (optionally with
        model folders unpacked somewhere else than the paths in the spec)."""
        from csdialog.encoders import get_encoder
        from csdialog.pipeline import Pipeline

        return Pipeline(
            self.steps, encoder=get_encoder(self.encoder, **dict(self.encoder_kwargs)),
            emotion_model=emotion_model if emotion_model is not None else self.emotion_model,
            intent_model=intent_model if intent_model is not None else self.intent_model,
            answer_scorer=answer_scorer if answer_scorer is not None else self.answer_scorer,
            answer_logics=self.logics(), mine_logics=False, inspection_rules=self.rules(),
            repeat_rules=self.repeat_rules, min_cluster_size=self.min_cluster_size, top=self.top,
            max_turn_chars=self.max_turn_chars,
        )


def shipped_folders(
    spec: PipelineSpec, clusterer: str | os.PathLike[str] | None, *, ship: bool,
) -> dict[str, PackedFolder]:
    """The model folders to send along with the job (none when ``ship`` is false)."""
    if not ship:
        return {}
    out: dict[str, PackedFolder] = {}
    if clusterer is not None:
        out["clusterer"] = PackedFolder.pack(clusterer)
    uses_emotion = spec.steps is None or "emotion" in spec.steps
    if uses_emotion and str(spec.emotion_model) != "default":
        out["emotion_model"] = PackedFolder.pack(spec.emotion_model)
    if spec.intent_model is not None:
        out["intent_model"] = PackedFolder.pack(spec.intent_model)
    uses_answers = spec.steps is None or "answers" in spec.steps
    if uses_answers and spec.answer_scorer is not None:
        out["answer_scorer"] = PackedFolder.pack(spec.answer_scorer)
    return out
