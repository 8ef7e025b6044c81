# Reads of Follow-up: querysets that already select_related what their page shows.
