"""The trust dashboard's data: who reaches which schools (`dashboard_scope`) and the
counts each panel shows (`dashboard_data`), read in a fixed number of statements
however many schools are in scope."""

from storage.dashboard.data import dashboard_data
from storage.dashboard.model import (
    ActionPanel,
    AttendancePanel,
    CategoryMove,
    CategoryPanel,
    CoachingPanel,
    Dashboard,
    DashboardScope,
    OutOfScope,
    Panel,
    QAJudgement,
    QAPanel,
    RagCount,
    SchoolActions,
    SchoolCategory,
    SchoolCoverage,
    SchoolQA,
    SchoolRef,
    SchoolVisits,
    StageCount,
    VisitPanel,
    WeekCount,
    WeekCoverage,
)
from storage.dashboard.scope import dashboard_scope

__all__ = [
    "ActionPanel",
    "AttendancePanel",
    "CategoryMove",
    "CategoryPanel",
    "CoachingPanel",
    "Dashboard",
    "DashboardScope",
    "OutOfScope",
    "Panel",
    "QAJudgement",
    "QAPanel",
    "RagCount",
    "SchoolActions",
    "SchoolCategory",
    "SchoolCoverage",
    "SchoolQA",
    "SchoolRef",
    "SchoolVisits",
    "StageCount",
    "VisitPanel",
    "WeekCount",
    "WeekCoverage",
    "dashboard_data",
    "dashboard_scope",
]
