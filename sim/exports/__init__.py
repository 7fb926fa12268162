"""Reports and exports for assessors: PDF, HTML, CSV tables, xAPI statements, the cohort. No pygame here."""
