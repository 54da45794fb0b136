(defsymphony "every indicator" {}
 (weight-equal
  [(if (= (max-drawdown "AAA" {:window 30}) (max-drawdown "AAA" {:window 30}))
     [(if (> (stdev-price "BBB" {window 6}) 0) [(asset "BBB")] [(asset "AAA")])]
     [(asset "CCC")])
   (filter (cumulative-return {:window 5}) (select-top 1) [(asset "AAA") (asset "DDD")])
   (filter (rsi {:window 3}) (select-top 1) [(asset "CCC") (asset "EEE")])
   (filter (current-price) (select-bottom 1) [(asset "BIL") (asset "AAA")])]))
