"""Pure rules: gate evaluation and statistics over plain data. No ORM, no clock."""
