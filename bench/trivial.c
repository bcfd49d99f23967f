/* The baseline: a dynamically linked C program that does nothing. */
int
main(void)
{
	return 0;
}
