from fundcmp.cli import main

main()
