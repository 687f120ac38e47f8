"""Documents: the analytical reports (аналитические справки) as DOCX and XLSX, and the charts they share
with the pages."""
