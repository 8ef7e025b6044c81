# Writes of Front desk: keyword-only functions, one transaction each, returning the model.
