"""Work Waypoint does on a schedule rather than in a turn: the weekly digests, the
QA reminders and the standards review reminders. `waypoint serve`'s tick
(bot/scheduler.py) and the command line (cron) run it; each piece is safe to run
twice and on several replicas at once."""
