# Forms of Front desk: they check the shape of input; services enforce business rules.
