# Forms of Client management: they check the shape of input; services enforce business rules.
