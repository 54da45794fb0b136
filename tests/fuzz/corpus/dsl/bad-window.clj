(defsymphony "bad window" {} (if (> (rsi "AAA" {:window 0}) 1e400) [(asset "AAA")] [(asset "BBB")]))
