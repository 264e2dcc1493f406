"""The custody part's sections of the daily regulatory report (picked up by
``compliance.report_sections``; custody imports nothing from compliance)."""

from custody.selectors import segregation_report_rows

REPORT_SECTIONS = {"segregation_statement": segregation_report_rows}
