# Forms of VIP: they check the shape of input; services enforce business rules.
