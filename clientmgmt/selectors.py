# Reads of Client management: querysets that already select_related what their page shows.
