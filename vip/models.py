# Models of VIP: VIP policy, status and enterprises (layer 3).
