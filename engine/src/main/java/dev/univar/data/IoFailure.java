package dev.univar.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * One-line descriptions of I/O failures for people: the file and the operating system's reason ("permission
 * denied", "read-only file system", "no such file or directory"). Java's file-system exceptions carry the path as
 * their message and the reason only in their type or {@link FileSystemException#getReason()}; printed as they are,
 * they name a path and leave out why.
 */
public final class IoFailure {
    private IoFailure() {
    }

    /** The operating system's reason for {@code e}, lower case, without the path; never null. */
    public static String reason(IOException e) {
        String r = switch (e) {
            case NoSuchFileException x -> x.getReason() != null ? x.getReason() : "no such file or directory";
            case AccessDeniedException x -> x.getReason() != null ? x.getReason() : "permission denied";
            case FileAlreadyExistsException x -> x.getReason() != null ? x.getReason() : "it already exists";
            case NotDirectoryException x -> x.getReason() != null ? x.getReason() : "not a directory";
            case DirectoryNotEmptyException x -> x.getReason() != null ? x.getReason() : "directory not empty";
            case FileSystemException x -> x.getReason() != null ? x.getReason() : x.getClass().getSimpleName();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
        return r.isEmpty() ? r : Character.toLowerCase(r.charAt(0)) + r.substring(1);
    }

    /** "FILE: reason" for a file-system failure, else the exception's own message. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs && fs.getFile() != null) {
            String s = fs.getFile() + ": " + reason(e);
            return fs.getOtherFile() == null ? s : s + " (" + fs.getOtherFile() + ")";
        }
        return reason(e);
    }

    /** An exception saying that {@code what} of {@code file} failed, with the reason: "cannot write FILE: permission denied". */
    public static IOException of(String what, Path file, IOException cause) {
        return new IOException(what + " " + file + ": " + reason(cause), cause);
    }

    /** {@link #of} as an unchecked exception, for code that cannot throw IOException. */
    public static UncheckedIOException unchecked(String what, Path file, IOException cause) {
        return new UncheckedIOException(of(what, file, cause));
    }
}
