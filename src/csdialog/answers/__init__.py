"""Question -> answer-logic matching: did the agent give the answer the question calls for?

- :class:`AnswerLogic`: what a good answer must contain (written, or mined with
  :func:`mine_answer_logics`); :func:`load_answer_logics` reads them from YAML / JSON.
- :class:`AnswerLogicMatcher`: checks every customer question of a dialogue and returns
  frozen :class:`AnswerCheck` records with the evidence.
- Scorers (:class:`SimilarityScorer`, :class:`PairClassifierScorer`,
  :class:`CrossEncoderScorer`) and the question/answer-type rules.

See ``docs/answers.md``.
"""

from csdialog.answers.logic import AnswerLogic, load_answer_logics, save_answer_logics
from csdialog.answers.matcher import AnswerCheck, AnswerLogicMatcher
from csdialog.answers.mining import mine_answer_logics, mine_from_pairs, resolves
from csdialog.answers.scorers import (
    BASE_FEATURES,
    CrossEncoderScorer,
    PairClassifierScorer,
    PairScorer,
    SimilarityScorer,
    load_scorer,
    pair_features,
)
from csdialog.answers.types import (
    ANSWER_TYPES,
    EXPECTED_ANSWERS,
    QUESTION_TYPES,
    VALUE_KINDS,
    answer_types,
    question_type,
    type_agreement,
    value_kinds,
)

__all__ = [
    "ANSWER_TYPES",
    "BASE_FEATURES",
    "EXPECTED_ANSWERS",
    "QUESTION_TYPES",
    "VALUE_KINDS",
    "AnswerCheck",
    "AnswerLogic",
    "AnswerLogicMatcher",
    "CrossEncoderScorer",
    "PairClassifierScorer",
    "PairScorer",
    "SimilarityScorer",
    "answer_types",
    "load_answer_logics",
    "load_scorer",
    "mine_answer_logics",
    "mine_from_pairs",
    "pair_features",
    "question_type",
    "resolves",
    "save_answer_logics",
    "type_agreement",
    "value_kinds",
]
