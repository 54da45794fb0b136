# local layer: sources, convenience library and unit tests (see Makefile.am).
