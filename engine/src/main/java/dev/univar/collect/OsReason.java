package dev.univar.collect;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Why a file operation failed, in the OS's words: NIO's exceptions often carry only the path as their message. */
final class OsReason {
    private OsReason() {
    }

    static String of(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return switch (e) {
            case AccessDeniedException a -> "permission denied";
            case NoSuchFileException n -> "no such file or directory";
            case NotDirectoryException n -> "not a directory";
            case FileAlreadyExistsException f -> "file exists";
            case DirectoryNotEmptyException d -> "directory not empty";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
