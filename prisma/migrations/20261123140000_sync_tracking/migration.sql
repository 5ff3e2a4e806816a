-- AlterTable
ALTER TABLE "Capp" ADD COLUMN     "clusterResourceVersion" TEXT,
ADD COLUMN     "syncedVersion" INTEGER,
ADD COLUMN     "updatedBy" TEXT;
