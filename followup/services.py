# Writes of Follow-up: keyword-only functions, one transaction each, returning the model.
