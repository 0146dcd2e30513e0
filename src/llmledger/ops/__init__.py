"""Operations: metrics, structured logs, the reservation lease."""
