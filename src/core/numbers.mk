# core numbers: decimal, timeutil, uuid (appends to libcore.a) and their tests.
