# Models of Front desk: visits, triage, membership cards, exam orders and charges (layer 2).
