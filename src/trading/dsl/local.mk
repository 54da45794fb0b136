# strategy DSL: lexer, parser, evaluator, indicators, strategy sets (libdsl.a) and tests.
