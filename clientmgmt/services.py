# Writes of Client management: keyword-only functions, one transaction each, returning the model.
