"""The reports wing: tables (the README's reproduction table) and self-contained HTML reports,
built from records.
"""
