# Forms of Follow-up: they check the shape of input; services enforce business rules.
