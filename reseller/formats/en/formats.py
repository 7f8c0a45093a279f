"""English dates as a panel customer reads them: 1 Dec 2026, 18:30 (Django's default, "Dec. 1, 2026,
6:30 p.m.", ends sentences with two periods)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
