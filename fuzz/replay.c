/*
** replay.c — runs a fuzz target's LLVMFuzzerTestOneInput on files, without
** libFuzzer, so that `make check` replays every corpus with gcc and the
** sanitizers (as zstd's tests/fuzz does). Arguments: files or directories.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: no such file\n", argv[i]);
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			struct dirent **ents;
			int k, m = scandir(argv[i], &ents, NULL, alphasort);
			for (k = 0; k < m; k++) {
				char path[4096];
				if (ents[k]->d_name[0] != '.') {
					snprintf(path, sizeof path, "%s/%s", argv[i],
						ents[k]->d_name);
					if (run_file(path))
						return 2;
					n++;
				}
				free(ents[k]);
			}
			free(ents);
		} else {
			if (run_file(argv[i]))
				return 2;
			n++;
		}
	}
	printf("replay: %d inputs\n", n);
	return 0;
}
