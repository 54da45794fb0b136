; a two-branch switch on price vs trend
(defsymphony "if else" {:rebalance-frequency :daily}
 (weight-equal
  [(if (> (current-price "AAA") (moving-average-price "AAA" {:window 20}))
     [(asset "AAA" "first")]
     [(asset "BBB" nil)])]))
