;; groups ranked on their simulated histories
(defsymphony "blocks" {}
 (filter (stdev-return {:window 5}) (select-bottom 1)
  [(group "a" [(weight-equal [(asset "AAA") (asset "BBB")])])
   (group "b" [(if (> (exponential-moving-average-price "CCC" {:window 8})
                      (moving-average-price "CCC" {:window 16}))
                  [(asset "CCC")] [(asset "BIL")])])
   (asset "DDD")]))
