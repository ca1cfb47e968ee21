"""Work Waypoint does on a schedule rather than in a turn: the weekly digests and
the QA reminders. `waypoint serve`'s tick (bot/scheduler.py) and the command line
(cron) run it; each piece is safe to run twice and on several replicas at once."""
