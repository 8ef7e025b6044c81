# Forms of Consultation desk: they check the shape of input; services enforce business rules.
