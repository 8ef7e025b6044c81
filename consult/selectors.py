# Reads of Consultation desk: querysets that already select_related what their page shows.
