# Models of Consultation desk: enquiries and bookings (layer 2).
