"""Vietnamese short dates as Vietnamese sites write them, day first: 02/12/2026 00:11 (Django's own is
"00:11 02-12-2026"); the long forms stay Django's ("00:11 Ngày 02 tháng 12 năm 2026")."""

SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
