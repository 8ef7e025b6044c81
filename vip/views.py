# Views of VIP: decorators, an access-checked fetch, a form, one service call.
