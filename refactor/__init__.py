"""krefactor: Coccinelle-driven refactoring of the Linux kernel into patch series."""
