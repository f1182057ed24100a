from .agency import Agency, Caseworker
from .attachments import Attachment, AttachmentKind
from .calendar import CalendarDay, CalendarYear
from .case import Case, IdempotencyRecord
from .event import CaseEvent, EventKind
from .letters import REPLY_KINDS, Letter, LetterKind, LetterSequence, LetterTemplate
from .notification import Notification, NotificationKind
from .proceedings import (
    JUDGMENT_ROLLUP,
    REVIEW_ROLLUP,
    Complaint,
    ComplaintKind,
    FeeNotice,
    JudgmentKind,
    Lawsuit,
    Result,
    Review,
    ReviewDecision,
    ReviewLaw,
)
from .records import (
    Publication,
    Record,
    RecordPage,
    Region,
    Release,
    ReleaseFile,
    Suggestion,
)
from .records_tasks import RecordsTask, TaskAnswer
from .repeats import RepeatCheck
from .saved_filter import SavedFilter

__all__ = [
    "Attachment",
    "AttachmentKind",
    "JUDGMENT_ROLLUP",
    "REVIEW_ROLLUP",
    "Complaint",
    "ComplaintKind",
    "FeeNotice",
    "JudgmentKind",
    "Lawsuit",
    "Result",
    "Review",
    "ReviewDecision",
    "ReviewLaw",
    "REPLY_KINDS",
    "Letter",
    "LetterKind",
    "LetterSequence",
    "LetterTemplate",
    "RecordsTask",
    "TaskAnswer",
    "RepeatCheck",
    "SavedFilter",
    "Publication",
    "Record",
    "RecordPage",
    "Region",
    "Release",
    "ReleaseFile",
    "Suggestion",
    "Agency",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "Caseworker",
    "EventKind",
    "IdempotencyRecord",
    "Notification",
    "NotificationKind",
]
