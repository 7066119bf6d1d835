/* File system calls on a fresh directory in /tmp: create, write, read, lseek, pread,
 * pwrite, O_APPEND, fstat, truncate, rename, link, unlink, mkdir, rmdir, getdents64,
 * symlink, readlink, openat, and their errors. */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Lists `path` with getdents64 (a small buffer, so several calls) and checks that it holds
 * exactly ".", ".." and the `n` names given. */
static void expect_entries(const char *path, const char **names, int n) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "open(%s, O_DIRECTORY)", path);
    char buf[64] __attribute__((aligned(8)));
    int found[16] = {0};
    int total = 0, dots = 0;
    for (;;) {
        long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
        CHECK(r >= 0, "getdents64(%s)", path);
        if (r == 0)
            break;
        for (long off = 0; off < r;) {
            struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
            CHECK(d->d_reclen > 0 && off + d->d_reclen <= r, "record length %u", d->d_reclen);
            CHECK(d->d_ino != 0, "inode number of %s", d->d_name);
            total++;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
                CHECK(d->d_type == DT_DIR, "type of %s is %d", d->d_name, d->d_type);
                dots++;
            } else {
                int known = 0;
                for (int i = 0; i < n; i++)
                    if (!strcmp(d->d_name, names[i])) {
                        found[i]++;
                        known = 1;
                    }
                CHECK(known, "unexpected entry %s in %s", d->d_name, path);
            }
            off += d->d_reclen;
        }
    }
    CHECK(dots == 2, "%d dot entries", dots);
    for (int i = 0; i < n; i++)
        CHECK(found[i] == 1, "%s listed %d times", names[i], found[i]);
    CHECK(total == n + 2, "%d entries", total);
    close(fd);
    OK("getdents64(%s) lists %d entries", path, total);
}

int main(void) {
    umask(022);
    char dir[] = "/tmp/fileio.XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(chdir(dir) == 0, "chdir(%s)", dir);
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) && !strcmp(cwd, dir), "getcwd gave %s", cwd);
    OK("mkdtemp, chdir and getcwd: %s", dir);

    const char *msg = "hello, world\n";
    int fd = open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0, "open(O_CREAT|O_EXCL)");
    EXPECT_ERRNO(open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    CHECK(write(fd, msg, 13) == 13, "write");
    CHECK(lseek(fd, 0, SEEK_CUR) == 13, "lseek(SEEK_CUR)");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek(SEEK_SET)");
    char buf[128] = {0};
    CHECK(read(fd, buf, sizeof buf) == 13 && !memcmp(buf, msg, 13), "read back");
    CHECK(read(fd, buf, sizeof buf) == 0, "read at EOF");
    CHECK(lseek(fd, -6, SEEK_END) == 7, "lseek(SEEK_END)");
    CHECK(read(fd, buf, 6) == 6 && !memcmp(buf, "world\n", 6), "read after SEEK_END");
    EXPECT_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL);
    OK("write, read, lseek");

    CHECK(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == 13, "pwrite moved the offset");
    CHECK(pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "HELLO", 5), "pread");
    CHECK(pwrite(fd, "X", 1, 100) == 1, "pwrite beyond EOF");
    memset(buf, 1, sizeof buf);
    CHECK(pread(fd, buf, 10, 50) == 10, "pread in the hole");
    for (int i = 0; i < 10; i++)
        CHECK(buf[i] == 0, "byte %d of the hole is %d", 50 + i, buf[i]);
    OK("pread, pwrite, holes read as zeros");

    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat");
    CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644, "mode %o", st.st_mode);
    CHECK(st.st_size == 101 && st.st_nlink == 1, "size %ld nlink %ld", (long)st.st_size,
          (long)st.st_nlink);
    CHECK(st.st_uid == getuid() && st.st_gid == getgid(), "owner %d:%d", st.st_uid, st.st_gid);
    OK("fstat: regular, 0644, 101 bytes, 1 link");

    int fd2 = open("a.txt", O_WRONLY | O_APPEND);
    CHECK(fd2 >= 0, "open(O_APPEND)");
    CHECK(write(fd2, "Z", 1) == 1, "append");
    CHECK(pread(fd, buf, 1, 101) == 1 && buf[0] == 'Z', "appended byte");
    close(fd2);
    OK("O_APPEND writes at the end");

    CHECK(ftruncate(fd, 5) == 0, "ftruncate");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 5, "size after ftruncate %ld", (long)st.st_size);
    CHECK(truncate("a.txt", 3) == 0, "truncate");
    CHECK(stat("a.txt", &st) == 0 && st.st_size == 3, "size after truncate");
    CHECK(truncate("a.txt", 4096) == 0, "truncate up");
    CHECK(pread(fd, buf, 10, 4000) == 10 && buf[0] == 0 && buf[9] == 0, "grown part reads zeros");
    CHECK(close(fd) == 0, "close");
    EXPECT_ERRNO(close(fd), EBADF);
    EXPECT_ERRNO(truncate("a.txt", -1), EINVAL);
    OK("ftruncate, truncate");

    CHECK(rename("a.txt", "b.txt") == 0, "rename");
    EXPECT_ERRNO(stat("a.txt", &st), ENOENT);
    CHECK(stat("b.txt", &st) == 0 && st.st_size == 4096, "renamed file");
    fd = open("c.txt", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "ccc", 3) == 3 && close(fd) == 0, "c.txt");
    CHECK(rename("c.txt", "b.txt") == 0, "rename over an existing file");
    CHECK(stat("b.txt", &st) == 0 && st.st_size == 3 && (st.st_mode & 0777) == 0600,
          "replaced file");
    EXPECT_ERRNO(rename("nonexistent", "x"), ENOENT);
    OK("rename");

    CHECK(link("b.txt", "h.txt") == 0, "link");
    struct stat st2;
    CHECK(stat("b.txt", &st) == 0 && stat("h.txt", &st2) == 0, "stat links");
    CHECK(st.st_ino == st2.st_ino && st.st_nlink == 2, "ino %lu/%lu nlink %ld",
          (unsigned long)st.st_ino, (unsigned long)st2.st_ino, (long)st.st_nlink);
    EXPECT_ERRNO(link("b.txt", "h.txt"), EEXIST);
    OK("link: same inode, 2 links");

    CHECK(mkdir("d", 0755) == 0, "mkdir");
    EXPECT_ERRNO(mkdir("d", 0755), EEXIST);
    EXPECT_ERRNO(mkdir("nonexistent/d", 0755), ENOENT);
    CHECK(stat("d", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 2, "new directory");
    fd = open("d/f", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "f", 1) == 1 && close(fd) == 0, "d/f");
    EXPECT_ERRNO(rmdir("d"), ENOTEMPTY);
    EXPECT_ERRNO(unlink("d"), EISDIR);
    EXPECT_ERRNO(rmdir("b.txt"), ENOTDIR);
    OK("mkdir and its errors");

    CHECK(symlink("b.txt", "s") == 0, "symlink");
    EXPECT_ERRNO(symlink("b.txt", "s"), EEXIST);
    memset(buf, 'x', sizeof buf);
    CHECK(readlink("s", buf, sizeof buf) == 5 && !memcmp(buf, "b.txt", 5) && buf[5] == 'x',
          "readlink");
    EXPECT_ERRNO(readlink("b.txt", buf, sizeof buf), EINVAL);
    CHECK(lstat("s", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 5, "lstat");
    CHECK(stat("s", &st2) == 0 && S_ISREG(st2.st_mode) && st2.st_size == 3, "stat through");
    fd = open("s", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 3 && !memcmp(buf, "ccc", 3), "read through");
    close(fd);
    OK("symlink, readlink, lstat, open through a symlink");

    const char *names[] = {"b.txt", "h.txt", "d", "s"};
    expect_entries(".", names, 4);

    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open(d, O_DIRECTORY)");
    fd = openat(dfd, "f", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 4) == 1 && buf[0] == 'f', "openat");
    close(fd);
    CHECK(fstatat(dfd, "f", &st, 0) == 0 && st.st_size == 1, "fstatat");
    CHECK(unlinkat(dfd, "f", 0) == 0, "unlinkat");
    close(dfd);
    EXPECT_ERRNO(open("b.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERRNO(open("nonexistent", O_RDONLY), ENOENT);
    EXPECT_ERRNO(open("b.txt/x", O_RDONLY), ENOTDIR);
    OK("openat, fstatat, unlinkat");

    CHECK(rmdir("d") == 0, "rmdir");
    EXPECT_ERRNO(rmdir("d"), ENOENT);
    CHECK(unlink("s") == 0 && unlink("h.txt") == 0 && unlink("b.txt") == 0, "unlink");
    EXPECT_ERRNO(unlink("b.txt"), ENOENT);
    expect_entries(".", names, 0);
    CHECK(chdir("/") == 0, "chdir /");
    CHECK(rmdir(dir) == 0, "rmdir %s", dir);
    EXPECT_ERRNO(stat(dir, &st), ENOENT);
    OK("rmdir, unlink");

    /* sendfile from a file to stdout (the console here, a pipe natively): the whole count. */
    char sf_path[64];
    snprintf(sf_path, sizeof sf_path, "/tmp/sendfile-src-%d", (int)getpid());
    int sf = open(sf_path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(sf >= 0 && write(sf, "sent by sendfile\n", 17) == 17, "write the source");
    fflush(stdout);
    off_t sf_off = 0;
    CHECK(sendfile(1, sf, &sf_off, 100) == 17 && sf_off == 17, "sendfile to stdout");
    CHECK(close(sf) == 0 && unlink(sf_path) == 0, "close, unlink");
    OK("sendfile to stdout");

    printf("fileio: all checks passed\n");
    return 0;
}
