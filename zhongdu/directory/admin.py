# Admin of the hospital directory.
