# The historical tables 0003 created (forms, study versions) get the append-only trigger too.

import edc.core.history
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0004_visitdefinition_anchor_visit'),
        ('core', '0003_history_append_only'),
    ]

    operations = [
        edc.core.history.HistoryAppendOnly(),
    ]
