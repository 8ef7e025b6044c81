# Models of client management: the one Client record per person, archive categories, consent
# and complaints (layer 1).
