"""`arkhiv watch`: the pure file-stability tracker (`stability`) and the inbox loop (`loop`)."""
