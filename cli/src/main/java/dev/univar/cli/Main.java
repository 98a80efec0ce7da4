package dev.univar.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("univar");
    }
}
