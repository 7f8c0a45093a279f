"""What other apps may hear of orders without orders knowing them (affiliates earn commission this way).

`orders_finished` is sent by orders/moves.py inside the transaction of the moves that made orders final,
once per call, with `orders`: the orders this call moved into a final status (their `charge`, `refund` and
`final_cost` as written). Only the winner of a move sends it, so a receiver that writes in that transaction
writes once per order; a receiver that raises rolls the moves back with it.
"""

from django.dispatch import Signal

orders_finished = Signal()
