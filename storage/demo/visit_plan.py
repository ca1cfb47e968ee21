"""The demo's notes of visit this term, school by school: what each adviser found, the
next steps each visit left, what the school did with them, and how the next visit
rated them (storage/demo/improvement.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.actions import Rag
from storage.demo.cast import (
    BRONTE,
    KINGSBRIDGE,
    LLWYNCELYN,
    OAKFIELD,
    RIVERSIDE,
    ST_MARYS,
)


@dataclass(frozen=True)
class Step:
    """A next step a visit leaves, and what the school did with it afterwards."""

    text: str
    # Days ago the school marked it done (awaiting the next visit's rating).
    done: int | None = None
    # (days ago, text): a progress note from the head.
    note: tuple[int, str] | None = None


@dataclass(frozen=True)
class DemoVisit:
    ago: int
    strengths: str
    risks: str
    # Days ago the steps fall due (negative: still ahead).
    due: int
    steps: tuple[Step, ...] = ()
    # Earlier steps (by text) rated at this visit.
    ratings: dict[str, Rag] = field(default_factory=dict)


R, A, G = Rag.red, Rag.amber, Rag.green

# The adviser and head of each school, and its visits this term, oldest first.
VISITS: dict[str, tuple[str, str, tuple[DemoVisit, ...]]] = {
    ST_MARYS: (
        "Nadia Okafor",
        "Catherine O'Neill",
        (
            DemoVisit(
                70,
                "Curriculum leaders know their subjects' sequencing well.",
                "Foundation subject maps are not yet shared with every class teacher.",
                35,
                (
                    Step("Sequence the foundation subjects' curriculum maps for spring", done=40),
                    Step("Moderate Year 6 writing with Riverside Primary", done=38),
                ),
            ),
            DemoVisit(
                28,
                "Year 6 writing moderation agreed with Riverside; maps in place.",
                "New staff need the history and geography sequences explained.",
                -28,
                (
                    Step("Publish the revised history and geography sequences to staff"),
                    Step("Run a pupil voice survey on reading for pleasure", done=3),
                ),
                {
                    "Sequence the foundation subjects' curriculum maps for spring": G,
                    "Moderate Year 6 writing with Riverside Primary": G,
                },
            ),
        ),
    ),
    OAKFIELD: (
        "Nadia Okafor",
        "Marcus Bell",
        (
            DemoVisit(
                84,
                "Phonics teaching in Reception and Year 1 is consistent.",
                "Reading at KS2 is well below the trust's average; leadership capacity thin.",
                42,
                (
                    Step("Publish the reading recovery plan to all staff", done=50),
                    Step("Audit Year 4 writing books and report the findings to governors"),
                ),
            ),
            DemoVisit(
                42,
                "The reading recovery plan is known by every teacher.",
                "The Year 4 writing audit has not started.",
                14,
                (
                    Step(
                        "Introduce daily reading fluency sessions in Key Stage 2",
                        note=(5, "Running in Years 3 and 4; Years 5 and 6 start next week."),
                    ),
                ),
                {
                    "Publish the reading recovery plan to all staff": G,
                    "Audit Year 4 writing books and report the findings to governors": A,
                },
            ),
            DemoVisit(
                14,
                "Fluency sessions seen in Year 3 were well paced.",
                "The writing audit is still outstanding; governors have asked for it.",
                -21,
                (
                    Step("Train teaching assistants in the phonics catch-up programme"),
                    Step("Share the reading plan with parents at the autumn meeting", done=2),
                ),
                {
                    "Audit Year 4 writing books and report the findings to governors": R,
                    "Introduce daily reading fluency sessions in Key Stage 2": A,
                },
            ),
        ),
    ),
    BRONTE: (
        "Nadia Okafor",
        "Anjali Mehta",
        (
            DemoVisit(
                63,
                "Outstanding maths teaching; strong subject leadership across the school.",
                "None significant.",
                30,
                (Step("Lead the trust's maths network meeting on retrieval practice", done=35),),
            ),
            DemoVisit(
                21,
                "The maths network meeting was well attended and valued.",
                "None significant.",
                -35,
                (Step("Host a Year 9 science moderation for Kingsbridge Secondary"),),
                {"Lead the trust's maths network meeting on retrieval practice": G},
            ),
        ),
    ),
    LLWYNCELYN: (
        "Gareth Pryce",
        "Rhodri Ellis-Jones",
        (
            DemoVisit(
                70,
                "Warm, purposeful classrooms; Welsh-medium provision is strong.",
                "Attendance is falling, and writing at upper KS2 lags reading.",
                -14,
                (
                    Step("Launch the attendance incentive scheme with families"),
                    Step("Model extended writing in Years 5 and 6", done=40),
                ),
            ),
            DemoVisit(
                35,
                "Extended writing modelled well in Year 6.",
                "The attendance scheme has not reached the families who need it most.",
                -21,
                (Step("Agree early-help referrals for persistent absentees with the council"),),
                {
                    "Launch the attendance incentive scheme with families": A,
                    "Model extended writing in Years 5 and 6": G,
                },
            ),
            DemoVisit(
                7,
                "Early-help referrals under way for two families.",
                "Attendance has fallen again; one pupil is now severely absent.",
                -28,
                (Step("Meet the families of pupils below 50% attendance every fortnight"),),
                {
                    "Launch the attendance incentive scheme with families": R,
                    "Agree early-help referrals for persistent absentees with the council": A,
                },
            ),
        ),
    ),
    RIVERSIDE: (
        "Gareth Pryce",
        "Aoife Ní Bhriain",
        (
            DemoVisit(
                56,
                "Early reading is now secure across KS1.",
                "Year 3 teachers are new to the phonics scheme.",
                20,
                (Step("Extend the early reading approach into Year 3", done=25),),
            ),
            DemoVisit(
                21,
                "Year 3 reading lessons follow the scheme faithfully.",
                "None significant.",
                -30,
                (Step("Write up early reading as a case study for the trust's CPD offer"),),
                {"Extend the early reading approach into Year 3": G},
            ),
        ),
    ),
    KINGSBRIDGE: (
        "Gareth Pryce",
        "Nuala D'Arcy",
        (
            DemoVisit(
                63,
                "The new leadership team has a clear, shared plan.",
                "Behaviour in Years 8 and 9 is inconsistent; English lacks line management.",
                21,
                (
                    Step(
                        "Embed the new behaviour policy in Years 8 and 9",
                        note=(9, "Policy launched; staff training on routines is booked."),
                    ),
                    Step("Set up line management of the English department", done=30),
                ),
            ),
            DemoVisit(
                28,
                "English now has weekly line management.",
                "Behaviour routines are still not consistent in Year 9.",
                -10,
                (Step("Run a learning walk on behaviour routines with the behaviour lead"),),
                {
                    "Embed the new behaviour policy in Years 8 and 9": A,
                    "Set up line management of the English department": G,
                },
            ),
        ),
    ),
}
