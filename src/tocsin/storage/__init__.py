"""storage."""

# Every table on tables.metadata (migrations, backups): the alert intake's live in their own module.
from tocsin.storage import alert_tables as alert_tables
from tocsin.storage import monitor_tables as monitor_tables
