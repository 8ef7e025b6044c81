# Reads of VIP: querysets that already select_related what their page shows.
