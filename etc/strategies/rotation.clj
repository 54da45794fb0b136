;; rotation.clj: the project's example of ranking and risk weighting. It
;; exercises filter with select-top / select-bottom over assets and over
;; groups (each group ranked on its own simulated history), inverse-volatility
;; weighting of assets and blocks, weight-specified, and the return and risk
;; indicators. Tickers: SPY QQQ XLK XLP GLD TLT IEF BIL SOXL.
(defsymphony
 "Rotation (alchemiserd example)"
 {:asset-class "EQUITIES", :rebalance-threshold 0.05}
 (weight-equal
  [(group
    "Momentum sleeve"
    [(weight-equal
      [(filter
        (moving-average-return {:window 20})
        (select-top 2)
        [(asset "SPY") (asset "QQQ") (asset "XLK") (asset "XLP") (asset "GLD")])])])
   (group
    "Defensive sleeve"
    [(weight-inverse-volatility
      21
      [(asset "TLT")
       (asset "GLD")
       (group "Short bonds" [(weight-equal [(asset "IEF") (asset "BIL")])])])])
   (group
    "Best of two regimes"
    [(filter
      (cumulative-return {:window 10})
      (select-top 1)
      [(group
        "Risk on"
        [(if
          (< (stdev-return "SOXL" {:window 10}) 6)
          [(weight-specified 0.6 (asset "SOXL") 0.4 (asset "XLK"))]
          [(asset "QQQ")])])
       (group
        "Risk off"
        [(if
          (> (max-drawdown "SPY" {:window 60}) 10)
          [(asset "BIL")]
          [(filter (stdev-price {:window 14}) (select-bottom 1) [(asset "XLP") (asset "GLD")])])])])])
   (group
    "Equality check"
    [(if
      (= (max-drawdown "BIL" {:window 5}) (max-drawdown "BIL" {:window 5}))
      [(asset "IEF")]
      [(asset "TLT")])])]))
